export * from '../../testkit/scep-client.js';
