import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { NotFoundError } from '#kernel';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/public.decorator.js';

/** Next to this file in the sources, and in dist/ (scripts/copy-assets.mjs copies it). */
const PUBLIC_DIR = new URL('./public/', import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page may talk to this service only, and run only its own files: the admin key it holds
 * never leaves for another origin, and text from the ledger (subject ids) can never run.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Small files that change with every release: revalidate rather than serve a stale page.
  'cache-control': 'no-cache',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** Every file of public/, read once at start (a handful of small files). */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) {
      assets.set(name, { type, body: readFileSync(new URL(name, PUBLIC_DIR)) });
    }
  }
  return assets;
}

/**
 * GET /dashboard: the operator's page (SPEC §4 "Dashboard"), plain static files that read only
 * the admin API with the admin key the operator types in. The page itself needs no key.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  private readonly assets = loadAssets();

  @Get()
  page(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    if (file === 'index.html' || !this.assets.has(file)) {
      throw new NotFoundError('dashboard file', file);
    }
    this.send(reply, file);
  }

  private send(reply: FastifyReply, name: string): void {
    const asset = this.assets.get(name)!;
    void reply.headers(SECURITY_HEADERS).type(asset.type).send(asset.body);
  }
}
