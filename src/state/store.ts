// The store's public face: state, slices and every action (see appStore.ts for the slices).

export * from './appStore';
export * from './arrays';
export * from './explorer';
export * from './options';
export * from './view';
