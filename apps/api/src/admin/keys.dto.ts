import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** POST /v1/admin/keys. */
export class CreateKeyDto {
  @ApiProperty({
    description: 'A unique name: recorded as `caller` on every ledger row its checks settle.',
    example: 'gateway-eu',
    pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$',
  })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/, {
    message: 'name must be 1 to 100 letters, digits or . _ : @ - (starting with a letter or digit)',
  })
  name!: string;

  @ApiPropertyOptional({
    description: '`caller` (the /v1 decision routes, default) or `admin` (also /v1/admin).',
    enum: ['caller', 'admin'],
    default: 'caller',
  })
  @IsOptional()
  @IsIn(['caller', 'admin'])
  role?: 'caller' | 'admin';
}

/** POST /v1/admin/keys/{name}/rotate. */
export class RotateKeyDto {
  @ApiPropertyOptional({
    description: 'How long the old key keeps working, in seconds (default 0: revoked at once).',
    type: 'integer',
    minimum: 0,
    maximum: 2_592_000,
    example: 3600,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2_592_000)
  grace_seconds?: number;
}
