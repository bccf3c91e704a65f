import { Test, TestingModule } from '@nestjs/testing';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { App } from 'supertest/types';
import { buildHopEvent, postHopEvent } from 'nestjs-hop-webhooks/testing';
import { AppModule } from './../src/app.module';
import { BuildEventsService } from './../src/build-events.service';

describe('AppController (e2e)', () => {
  let app: INestApplication<App>;

  beforeEach(async () => {
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [AppModule],
    }).compile();

    app = moduleFixture.createNestApplication();
    await app.init();
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
