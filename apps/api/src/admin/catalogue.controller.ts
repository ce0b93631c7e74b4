import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdminOnly, type Caller, CurrentCaller } from '../auth/caller.js';
import { ApiAdmin, ApiAdminRoutes } from './admin.openapi.js';
import { checkName } from './admin.params.js';
import { ModelDto } from './models.dto.js';
import { ModelsService } from './models.service.js';
import { SubjectDto, SubjectListQuery } from './subjects.dto.js';
import { SubjectsService } from './subjects.service.js';
import { TierDto, TierModelLimitDto } from './tiers.dto.js';
import { TiersService } from './tiers.service.js';

const INVALID: [number, string] = [400, '`invalid_request`: a field is missing or out of range.'];
const NOT_FOUND: [number, string] = [404, '`not_found`: no such row.'];

/** 201 when the PUT created the row, 200 when it replaced one. */
function created(reply: FastifyReply, isNew: boolean): void {
  void reply.status(isNew ? 201 : 200);
}

/** Tiers, subjects, models and per-model limits: the rows of SPEC §5, edited as SQL would. */
@ApiAdminRoutes('admin')
@AdminOnly()
@Controller('v1/admin')
export class CatalogueController {
  constructor(
    private readonly tiers: TiersService,
    private readonly subjects: SubjectsService,
    private readonly models: ModelsService,
  ) {}

  @ApiAdmin({ summary: 'List tiers', ok: [200, 'AdminTier', 'array'] })
  @Get('tiers')
  async listTiers(): Promise<{ tiers: unknown[] }> {
    return { tiers: await this.tiers.list() };
  }

  @ApiAdmin({
    summary: 'A tier and its per-model limits',
    ok: [200, 'AdminTier'],
    errors: [NOT_FOUND],
  })
  @Get('tiers/:name')
  getTier(@Param('name') name: string): Promise<Record<string, unknown>> {
    return this.tiers.get(checkName('tier name', name));
  }

  @ApiAdmin({
    summary: 'Create or replace a tier',
    description: 'Absent limits are unlimited. Every instance applies it within 2 s.',
    ok: [200, 'AdminTier'],
    upsert: true,
    errors: [INVALID],
  })
  @Put('tiers/:name')
  async putTier(
    @CurrentCaller() caller: Caller,
    @Param('name') name: string,
    @Body() dto: TierDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    created(reply, await this.tiers.put(caller, checkName('tier name', name), dto));
    return this.tiers.get(name);
  }

  @ApiAdmin({
    summary: 'Delete a tier',
    errors: [NOT_FOUND, [409, '`tier_in_use`: subjects still have this tier.']],
  })
  @Delete('tiers/:name')
  @HttpCode(204)
  async deleteTier(@CurrentCaller() caller: Caller, @Param('name') name: string): Promise<void> {
    await this.tiers.delete(caller, checkName('tier name', name));
  }

  @ApiAdmin({
    summary: 'A per-model limit of a tier',
    ok: [200, 'AdminTierModelLimit'],
    errors: [NOT_FOUND],
  })
  @Get('tiers/:name/models/:model')
  getModelLimit(
    @Param('name') name: string,
    @Param('model') model: string,
  ): Promise<Record<string, unknown>> {
    return this.tiers.getModelLimit(checkName('tier name', name), checkName('model', model));
  }

  @ApiAdmin({
    summary: 'Create or replace a per-model limit of a tier',
    ok: [200, 'AdminTierModelLimit'],
    upsert: true,
    errors: [INVALID, NOT_FOUND],
  })
  @Put('tiers/:name/models/:model')
  async putModelLimit(
    @CurrentCaller() caller: Caller,
    @Param('name') name: string,
    @Param('model') model: string,
    @Body() dto: TierModelLimitDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    checkName('tier name', name);
    checkName('model', model);
    created(reply, await this.tiers.putModelLimit(caller, name, model, dto));
    return this.tiers.getModelLimit(name, model);
  }

  @ApiAdmin({ summary: 'Delete a per-model limit of a tier', errors: [NOT_FOUND] })
  @Delete('tiers/:name/models/:model')
  @HttpCode(204)
  async deleteModelLimit(
    @CurrentCaller() caller: Caller,
    @Param('name') name: string,
    @Param('model') model: string,
  ): Promise<void> {
    await this.tiers.deleteModelLimit(
      caller,
      checkName('tier name', name),
      checkName('model', model),
    );
  }

  @ApiAdmin({
    summary: 'List subjects (keyset pages by id)',
    description:
      'Answers `{subjects, next_cursor}`; pass next_cursor as `cursor` for the next page.',
    ok: [200, 'AdminSubject', 'array'],
    errors: [INVALID],
  })
  @Get('subjects')
  listSubjects(@Query() query: SubjectListQuery): Promise<Record<string, unknown>> {
    return this.subjects.list(query);
  }

  @ApiAdmin({ summary: 'A subject', ok: [200, 'AdminSubject'], errors: [INVALID, NOT_FOUND] })
  @Get('subjects/:id')
  getSubject(@Param('id') id: string): Promise<Record<string, unknown>> {
    return this.subjects.get(checkName('subject id', id));
  }

  @ApiAdmin({
    summary: "Create or replace a subject's row",
    ok: [200, 'AdminSubject'],
    upsert: true,
    errors: [INVALID],
  })
  @Put('subjects/:id')
  async putSubject(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body() dto: SubjectDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    created(reply, await this.subjects.put(caller, checkName('subject id', id), dto));
    return this.subjects.get(id);
  }

  @ApiAdmin({
    summary: "Delete a subject's row (it falls back to the default tier)",
    errors: [NOT_FOUND],
  })
  @Delete('subjects/:id')
  @HttpCode(204)
  async deleteSubject(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    await this.subjects.delete(caller, checkName('subject id', id));
  }

  @ApiAdmin({ summary: 'List models and prices', ok: [200, 'AdminModel', 'array'] })
  @Get('models')
  async listModels(): Promise<{ models: unknown[] }> {
    return { models: await this.models.list() };
  }

  @ApiAdmin({ summary: 'A model', ok: [200, 'AdminModel'], errors: [NOT_FOUND] })
  @Get('models/:name')
  getModel(@Param('name') name: string): Promise<Record<string, unknown>> {
    return this.models.get(checkName('model', name));
  }

  @ApiAdmin({
    summary: 'Create or replace a model and its prices',
    ok: [200, 'AdminModel'],
    upsert: true,
    errors: [INVALID],
  })
  @Put('models/:name')
  async putModel(
    @CurrentCaller() caller: Caller,
    @Param('name') name: string,
    @Body() dto: ModelDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    created(reply, await this.models.put(caller, checkName('model', name), dto));
    return this.models.get(name);
  }

  @ApiAdmin({
    summary: 'Delete a model (its checks then answer unknown_model)',
    errors: [NOT_FOUND],
  })
  @Delete('models/:name')
  @HttpCode(204)
  async deleteModel(@CurrentCaller() caller: Caller, @Param('name') name: string): Promise<void> {
    await this.models.delete(caller, checkName('model', name));
  }
}
