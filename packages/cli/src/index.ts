export { main, HELP } from './main';
export { parseEvalFlags, EVAL_HELP } from './eval';
export { UserError } from './errors';
