import {
  BadRequestException,
  Inject,
  Injectable,
  OnApplicationBootstrap,
  Optional,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { HopBodyError } from '../core/errors.js';
import { HopTelemetry } from '../core/telemetry.js';
import { HOP_WEBHOOKS_CONFIG, HOP_WEBHOOKS_ROUTE } from './constants.js';
import { installExpressBodyReader } from './express-body.reader.js';
import { installFastifyBodyReader } from './fastify-body.reader.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';
import { hopWebhooksPaths, routeMark, type ResolvedHopWebhooksRoute } from './webhooks.route.js';

/**
 * Makes the webhook route read its own body, so that the app needs no `rawBody: true` and no
 * parser sees an unverified body. It acts when Nest hands the module its HTTP adapter
 * (`HttpAdapterHost.init$`): at once with `NestFactory.create`, in `createNestApplication()`
 * after `Test.createTestingModule(...).compile()`; both before `app.init()` registers body
 * parsers and routes. An application context without HTTP gets nothing. On Express, which
 * requests are the route's is settled at bootstrap, once the app's routes are registered.
 */
@Injectable()
export class HopBodyReaderInstaller implements OnApplicationBootstrap {
  private prepareExpress?: () => void;

  constructor(
    adapterHost: HttpAdapterHost,
    @Optional() @Inject(ApplicationConfig) applicationConfig: ApplicationConfig | undefined,
    @Inject(HOP_WEBHOOKS_CONFIG) config: ResolvedHopWebhooksConfig,
    @Inject(HOP_WEBHOOKS_ROUTE) route: ResolvedHopWebhooksRoute,
    telemetry: HopTelemetry,
  ) {
    const paths = () => hopWebhooksPaths(route, applicationConfig);
    const options = { paths, limit: config.bodyLimit, refusal: httpRefusal, telemetry };
    adapterHost.init$.subscribe(() => {
      const adapter = adapterHost.httpAdapter;
      const type = adapter?.getType();
      if (type === 'express') this.prepareExpress = installExpressBodyReader(adapter, options);
      else if (type === 'fastify') {
        installFastifyBodyReader(adapter, { ...options, mark: routeMark(route) });
      }
    });
  }

  onApplicationBootstrap(): void {
    this.prepareExpress?.();
  }
}

/** The answer to a body that could not be read. */
function httpRefusal(error: unknown): unknown {
  if (!(error instanceof HopBodyError)) return error;
  switch (error.code) {
    case 'body_too_large':
      return new PayloadTooLargeException(error.message);
    case 'body_not_json_type':
    case 'body_encoded':
      return new UnsupportedMediaTypeException(error.message);
    case 'body_incomplete':
      return new BadRequestException(error.message);
  }
}
