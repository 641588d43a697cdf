// WGSL files are imported as strings (Vite's ?raw; bin/raw-loader.mjs does the same under tsx).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
