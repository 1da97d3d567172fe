/** The App Service-like TLS front end of the local host (scripts/local/tls-front.ts), for tests. */
export { CLIENT_CERT_HEADER, startFrontEnd, type FrontEnd } from '../../scripts/local/tls-front.js';
