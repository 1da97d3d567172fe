export * from '../../lib/scep/client.js';
