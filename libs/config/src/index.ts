export { AppConfig } from './app.config.js';
export { AppConfigModule } from './config.module.js';
export { EnvironmentVariables, validateEnvironment } from './env.schema.js';
