import { Router } from 'zeromq'
import { prepareSshAccess, startSshd, SANDBOX_COMMAND } from '/work/main/test/support/sshd.ts'
import { CurveAuthority } from '/work/main/worker/curve-authority.ts'
import { SshLauncher } from '/work/main/worker/launchers/ssh.ts'
const access = prepareSshAccess()
const sshd = await startSshd(access)
const curve = await CurveAuthority.start((l) => console.log('curve', l))
const router = new Router({ ...curve.serverOptions(), linger: 0, receiveTimeout: 8000 })
await router.bind('tcp://127.0.0.1:*')
const ssh = new SshLauncher({ hosts: [{ host: sshd.target, sandboxes: 2 }], keyPath: access.keyPath, knownHostsPath: access.knownHostsPath, command: SANDBOX_COMMAND, curve, log: (l) => console.log('log', l) })
const h = await ssh.launch({ id: 'x1', endpoint: router.lastEndpoint!, slots: 1 })
console.log('launched', h.host)
h.exited.then((e) => console.log('exited', e))
try { const m = await router.receive(); console.log('got', m.map(String)) } catch (e) { console.log('recv', e.message) }
console.log('pid', h.pid)
await ssh.close(); await sshd.kill(); router.close(); curve.close()
