import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { chooseS3ServerKind, startS3Server, type TestS3Server } from '../support/s3-server.js';

describe('test S3 server', () => {
  let server: TestS3Server;
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('round-trips an object through the real AWS SDK (put, head, get)', async () => {
    await server.createBucket('round-trip');
    const body = Buffer.from('%PDF-1.4 round trip\n');
    const client = server.client();
    await client.send(
      new PutObjectCommand({
        Bucket: 'round-trip',
        Key: 'a/b.pdf',
        Body: body,
        ContentType: 'application/pdf',
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: 'round-trip', Key: 'a/b.pdf' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag?.replace(/"/g, '')).toBe(createHash('md5').update(body).digest('hex'));
    const got = await client.send(new GetObjectCommand({ Bucket: 'round-trip', Key: 'a/b.pdf' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(body)).toBe(true);
  });

  it('picks the server from FAX_SUNSET_TEST_S3', () => {
    expect(chooseS3ServerKind({ FAX_SUNSET_TEST_S3: 's3rver' }).kind).toBe('s3rver');
    expect(chooseS3ServerKind({ FAX_SUNSET_TEST_S3: 'http://127.0.0.1:9000/' })).toEqual({
      kind: 'external',
      endpoint: 'http://127.0.0.1:9000',
    });
    expect(() => chooseS3ServerKind({ FAX_SUNSET_TEST_S3: 'minio' })).toThrow(/FAX_SUNSET_TEST_S3/);
  });
});
