// Starts PLC + PDS + AppView (@atproto/dev-env TestNetwork) on 127.0.0.1 and prints one
// JSON line {"ready": true, "pds": ..., "appview": ..., "plc": ...} when ready.
// Stops cleanly on SIGTERM/SIGINT. Env: SCRM_PG_URL, SCRM_PG_SCHEMA (letters/underscores).
'use strict'
// dev-env's servers call listen(port) with no host, i.e. every interface: pin them
// all to loopback before anything starts.
const net = require('node:net')
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}
const { TestNetwork } = require('@atproto/dev-env')

async function main() {
  process.env.REDIS_HOST = process.env.REDIS_HOST || '127.0.0.1' // required, never used
  const network = await TestNetwork.create({
    dbPostgresUrl: process.env.SCRM_PG_URL || 'postgresql://postgres@127.0.0.1:5432/scrm_atproto',
    dbPostgresSchema: process.env.SCRM_PG_SCHEMA || 'scrm_live',
    // an explicit {port: undefined} would override the port dev-env picks for PLC
    plc: {},
    pds: {},
    bsky: {},
  })
  let closing = false
  const stop = async () => {
    if (closing) return
    closing = true
    try { await network.close() } finally { process.exit(0) }
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdout.write(JSON.stringify({
    ready: true, pds: network.pds.url, appview: network.bsky.url, plc: network.plc.url,
    pid: process.pid,
  }) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
