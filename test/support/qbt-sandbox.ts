// Test support: the qBittorrent sandbox lives in src/sandbox (the demo ships it); tests import it from here.
export * from '../../src/sandbox/qbt-sandbox.js';
