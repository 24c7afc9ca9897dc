import { Body, Controller, Get, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorDto } from '../common/api-errors';
import type { AuthenticatedUser } from './authenticated-user';
import { LocalAuthGuard } from './auth.guards';
import { LoginThrottlerGuard } from './login-throttler.guard';
import { AuthService } from './auth.service';
import { LoginDto, TokenDto } from './auth.dto';
import { AuthenticatedOnly, CurrentUser, Public } from './permission.decorator';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  // The limit comes first, so that a blocked attempt never reaches the password check.
  @UseGuards(LoginThrottlerGuard, LocalAuthGuard)
  @ApiOperation({ summary: 'Log in with a username and password', security: [] })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'Missing username or password' })
  @ApiOkResponse({ type: TokenDto })
  @ApiUnauthorizedResponse({ type: ErrorDto, description: 'Invalid username or password' })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    description: 'Too many attempts from this address or for this username; see Retry-After',
  })
  login(
    @Body() _credentials: LoginDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenDto> {
    return this.auth.issueToken(user, response);
  }

  @Get('refresh')
  @AuthenticatedOnly()
  @ApiOperation({ summary: 'Exchange a valid token for a fresh one' })
  @ApiOkResponse({ type: TokenDto })
  refresh(
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenDto> {
    return this.auth.issueToken(user, response);
  }
}
