// Test support: the .torrent writer lives in src/sandbox (the demo ships it); tests import it from here.
export * from '../../src/sandbox/torrent-file.js';
