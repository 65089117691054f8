/** Marks the line a memory-scale child prints its report on: `SCALE {json}`. */
export const SCALE_MARKER = 'SCALE'
