/**
 * The ceiling: Fastify 5 with its defaults and one route that parses the JSON
 * body and echoes it. Whatever Sealpost adds is measured against this.
 */
import Fastify from 'fastify'

const app = Fastify()
app.post('/echo', async (req) => req.body)
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as { port: number }
process.send?.({ ready: true, port })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
