export { startAzurite, type Azurite } from '../../scripts/local/azurite.js';
