export * from './event.js';
export * from './bus.js';
export type { EventSink } from './sink.js';
export { createSinks } from './create-sinks.js';
export { createStdoutSink } from './sinks/stdout-sink.js';
export { createFileSink } from './sinks/file-sink.js';
