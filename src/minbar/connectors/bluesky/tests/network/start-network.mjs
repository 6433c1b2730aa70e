// A local Bluesky network for Minbar's connector tests: PLC + PDS + AppView (bsky) + bsync +
// ozone, all on loopback (preload loopback-only.cjs). Adapted from a script seen working with
// @atproto/dev-env 0.6.7 on these machines; ports come from the environment so parallel runs
// never clash.
// needs: DB_POSTGRES_URL, REDIS_HOST (host:port), BSKY_SCHEMA (letters and _ only), BSKY_*_PORT.
// run:   node -r ./loopback-only.cjs start-network.mjs   (from the directory holding node_modules)
import { TestNetwork } from '@atproto/dev-env'

const port = (name, fallback) => Number(process.env[name] || fallback)
const t0 = Date.now()
const pdsPort = port('BSKY_PDS_PORT', 2583)
const appviewPort = port('BSKY_APPVIEW_PORT', 2584)
const net = await TestNetwork.create({
  dbPostgresSchema: process.env.BSKY_SCHEMA || 'etoe',
  plc: { port: port('BSKY_PLC_PORT', 2582) },
  pds: { port: pdsPort, hostname: 'localhost', enableDidDocWithSession: true },
  bsky: { port: appviewPort, publicUrl: `http://localhost:${appviewPort}` },
  ozone: {
    port: port('BSKY_OZONE_PORT', 2587),
    chatUrl: `http://localhost:${port('BSKY_CHAT_PORT', 2590)}`,
    chatDid: 'did:example:chat',
  },
})
// The AppView indexes the PDS firehose asynchronously; keep it flushed so reads see writes
// quickly (counts, notifications, search).
const flush = setInterval(() => net.processAll().catch(() => {}), 500)
console.log(JSON.stringify({ ready: true, secs: (Date.now() - t0) / 1000, plc: net.plc.url,
  pds: net.pds.url, appview: net.bsky.url, ozone: net.ozone.url,
  appviewDid: net.bsky.ctx.cfg.serverDid }))
const stop = async () => { clearInterval(flush); await net.close().catch(() => {}); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
