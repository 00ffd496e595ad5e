export * from './policies';
export * from './engine';
export * from './metrics';
export * from './stats';
export * from './evaluate';
export * from './tune';
