export * from './policies';
export * from './images';
export * from './engine';
export * from './metrics';
export * from './stats';
export * from './evaluate';
export * from './tune';
export * from './with-tta';
