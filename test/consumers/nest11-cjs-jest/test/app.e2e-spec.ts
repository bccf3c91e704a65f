import { Test, TestingModule } from '@nestjs/testing';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import request from 'supertest';
import { buildHopEvent, postHopEvent } from 'nestjs-hop-webhooks/testing';
import { AppModule } from './../src/app.module';
import { BuildEventsService } from './../src/build-events.service';

describe('AppController (e2e)', () => {
  let app: NestFastifyApplication;

  beforeEach(async () => {
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [AppModule],
    }).compile();

    app = moduleFixture.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter(),
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  it('/ (GET)', () => {
    return request(app.getHttpServer())
      .get('/')
      .expect(200)
      .expect('Hello World!');
  });

  it('/hop/webhook (POST) runs the handler for a signed event', async () => {
    await app.listen(0, '127.0.0.1');
    const event = buildHopEvent('ignite.deployment.build.updated');

    const response = await postHopEvent(
      `${await app.getUrl()}/hop/webhook`,
      event,
      process.env.HOP_WEBHOOK_SECRET as string,
    );

    expect(response.status).toBe(204);
    expect(app.get(BuildEventsService).received).toEqual([event]);
  });

  afterEach(async () => {
    await app.close();
  });
});
