// Byte and duration formatting for rendered output (pure; the implementation lives in domain for planner reasons).
export { formatBytes, formatDuration } from '../domain/format-bytes.js';
