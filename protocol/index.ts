/** The one protocol module shared by server, dispatcher and sandbox. */
export * from './limits.ts'
export * from './output-bytes.ts'
export * from './job.ts'
export * from './messages.ts'
export * from './codec.ts'
export * from './boot.ts'
export * from './http-requests.ts'
export type * from './http-views.ts'
