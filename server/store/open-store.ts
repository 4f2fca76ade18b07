/**
 * Picks the store adapter the configuration asks for: MongoDB when a URI is
 * set, the embedded SQLite file in the data directory otherwise.
 */
import type { Config } from '../../config/schema.ts'
import { MongoStore } from './mongo.ts'
import type { Store } from './port.ts'
import { SqliteStore } from './sqlite.ts'

/**
 * @example
 *   const store = storeFor(loadConfig()) // SqliteStore('./data') unless MONGODB_URI is set
 */
export function storeFor(config: Config): Store {
  const { mongodbUri, mongodbDb } = config.store
  return mongodbUri ? new MongoStore({ uri: mongodbUri, dbName: mongodbDb }) : new SqliteStore(config.server.dataDir)
}
