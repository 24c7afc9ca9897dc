import { ApiClient } from './support/http-client';
import { KritenServer, ROOT_PASSWORD } from './support/kriten-server';
import { GitRepository } from './support/git-repos';
jest.setTimeout(60000);
it('smoke', async () => {
  const server = await KritenServer.start();
  const api = new ApiClient(server.baseUrl);
  await api.login('root', ROOT_PASSWORD);
  const repo = GitRepository.create({ 'hello.sh': '#!/bin/sh\necho hello; echo err >&2; printf "^JSON\\n{\\"a\\":1}\\n^JSON\\n"\n' });
  console.log((await api.post('/api/v1/runners', { name: 'r1', image: 'x', gitURL: repo.url, branch: 'main' })).text);
  console.log((await api.post('/api/v1/tasks', { name: 't1', runner: 'r1', command: './hello.sh', synchronous: true })).text);
  const t0 = Date.now();
  const r = await api.post('/api/v1/jobs/t1', { x: 1 });
  console.log(Date.now() - t0, r.status, r.text);
  const r2 = await api.post('/api/v1/jobs/t1', { x: 1 });
  console.log(Date.now() - t0, r2.status, r2.text);
  await server.stop();
  console.log(server.logs);
});
