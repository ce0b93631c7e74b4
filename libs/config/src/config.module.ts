import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app.config.js';
import { type EnvironmentVariables, validateEnvironment } from './env.schema.js';

/**
 * The validated environment as a global module. The variables are validated once, by the caller
 * of `forRoot` (the process environment by default), so a bad value stops the start. Reads answer
 * those validated values only, never the raw environment: an empty `DATABASE_URL` stays unset.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(env: EnvironmentVariables = validateEnvironment(process.env)): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          skipProcessEnv: true,
          cache: true,
          load: [() => ({ ...env })],
        }),
      ],
      providers: [AppConfig],
      exports: [AppConfig],
    };
  }
}
