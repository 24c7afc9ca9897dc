import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import {
  AuthenticatedOnly,
  CallerPermissions,
  CurrentUser,
  RequirePermission,
} from '../auth/permission.decorator';
import type { PermissionSet } from '../auth/permission-set';
import { ApiCommonErrors } from '../common/api-errors';
import { MessageDto } from '../common/message.dto';
import { PageQueryDto, TOTAL_COUNT_HEADER, sendPage } from '../common/pagination';
import {
  ApiTokenDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
  UpdateApiTokenDto,
} from './api-token.dto';
import { ApiTokensService } from './api-tokens.service';

@ApiTags('api_tokens')
@ApiCommonErrors()
@Controller('api_tokens')
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Get()
  @AuthenticatedOnly()
  @ApiOperation({ summary: "List the caller's own API tokens" })
  @ApiOkResponse({ type: [ApiTokenDto] })
  listOwn(@CurrentUser() caller: AuthenticatedUser): Promise<ApiTokenDto[]> {
    return this.tokens.listOwn(caller);
  }

  @Post()
  @HttpCode(200)
  @AuthenticatedOnly()
  @ApiOperation({
    summary: 'Create an API token for the caller',
    description: 'The token appears in this response only. Send it as the `Token` header.',
  })
  @ApiOkResponse({ type: CreatedApiTokenDto })
  create(
    @CurrentUser() caller: AuthenticatedUser,
    @Body() input: CreateApiTokenDto,
  ): Promise<CreatedApiTokenDto> {
    return this.tokens.create(caller, input);
  }

  @Get('all')
  @RequirePermission('api_tokens', 'read')
  @ApiOperation({
    summary: "List every user's API tokens that the caller may read",
    description: `The total is in the ${TOTAL_COUNT_HEADER} header.`,
  })
  @ApiOkResponse({ type: [ApiTokenDto] })
  async listAll(
    @Query() query: PageQueryDto,
    @CallerPermissions() permissions: PermissionSet,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ApiTokenDto[]> {
    const scope = permissions.idsFor('api_tokens', 'read');
    return sendPage(response, await this.tokens.listAll(scope, query));
  }

  @Patch(':id')
  @AuthenticatedOnly()
  @ApiOperation({
    summary: 'Change the description, expiry or enabled state of an API token',
    description: 'Allowed to the owner, and to callers with api_tokens write on the id.',
  })
  @ApiOkResponse({ type: ApiTokenDto })
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('id') id: string,
    @Body() input: UpdateApiTokenDto,
  ): Promise<ApiTokenDto> {
    return this.tokens.update(caller, id, input);
  }

  @Delete(':id')
  @AuthenticatedOnly()
  @ApiOperation({
    summary: 'Delete an API token',
    description: 'Allowed to the owner, and to callers with api_tokens write on the id.',
  })
  @ApiOkResponse({ type: MessageDto })
  delete(@CurrentUser() caller: AuthenticatedUser, @Param('id') id: string): Promise<MessageDto> {
    return this.tokens.delete(caller, id);
  }
}
