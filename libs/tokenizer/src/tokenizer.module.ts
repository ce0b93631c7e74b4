import { Module } from '@nestjs/common';
import { TokenCounter } from './token-counter.service.js';

@Module({ providers: [TokenCounter], exports: [TokenCounter] })
export class TokenizerModule {}
