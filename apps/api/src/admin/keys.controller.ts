import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { AdminOnly, type Caller, CurrentCaller } from '../auth/caller.js';
import { ApiAdmin, ApiAdminRoutes } from './admin.openapi.js';
import { checkName } from './admin.params.js';
import { CreateKeyDto, RotateKeyDto } from './keys.dto.js';
import { KeysService } from './keys.service.js';

/** API keys: made, rotated and revoked here; only their SHA-256 is stored. */
@ApiAdminRoutes('admin')
@AdminOnly()
@Controller('v1/admin/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @ApiAdmin({
    summary: 'Create an API key (shown once in this answer)',
    ok: [201, 'AdminKey'],
    errors: [
      [400, '`invalid_request`: bad name or role.'],
      [409, '`api_client_exists`: the name is taken.'],
    ],
  })
  @Post()
  @HttpCode(201)
  create(
    @CurrentCaller() caller: Caller,
    @Body() dto: CreateKeyDto,
  ): Promise<Record<string, unknown>> {
    return this.keys.create(caller, dto);
  }

  @ApiAdmin({ summary: 'List keys (never the keys themselves)', ok: [200, 'AdminKey', 'array'] })
  @Get()
  async list(): Promise<{ keys: unknown[] }> {
    return { keys: await this.keys.list() };
  }

  @ApiAdmin({
    summary: 'Rotate a key: a new key (shown once); the old one stops now or after grace_seconds',
    ok: [200, 'AdminKey'],
    errors: [
      [400, '`invalid_request`: bad grace_seconds.'],
      [404, '`not_found`: no unrevoked key of that name.'],
    ],
  })
  @Post(':name/rotate')
  @HttpCode(200)
  rotate(
    @CurrentCaller() caller: Caller,
    @Param('name') name: string,
    @Body() dto: RotateKeyDto,
  ): Promise<Record<string, unknown>> {
    return this.keys.rotate(caller, checkName('key name', name), dto.grace_seconds ?? 0);
  }

  @ApiAdmin({
    summary: 'Revoke a key (within 2 s on every instance)',
    ok: [200, 'AdminKey'],
    errors: [[404, '`not_found`: no key of that name.']],
  })
  @Delete(':name')
  @HttpCode(200)
  revoke(
    @CurrentCaller() caller: Caller,
    @Param('name') name: string,
  ): Promise<Record<string, unknown>> {
    return this.keys.revoke(caller, checkName('key name', name));
  }
}
