import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app.config.js';
import { validateEnvironment } from './env.schema.js';

@Global()
@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true, cache: true, validate: validateEnvironment }),
  ],
  providers: [AppConfig],
  exports: [AppConfig],
})
export class AppConfigModule {}
