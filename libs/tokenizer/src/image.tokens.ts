import type { ImagePart } from './tokenizer.types.js';

/**
 * Image inputs by OpenAI's published rule for its tile-based vision models (GPT-4o, GPT-4.1,
 * GPT-4 Turbo): `low` detail is a flat 85 tokens; `high` scales the image to fit 2048 × 2048,
 * then down so that its shortest side is at most 768 px, and costs 85 + 170 per 512 px tile.
 */
export const IMAGE_BASE_TOKENS = 85;
export const IMAGE_TILE_TOKENS = 170;
export const IMAGE_LOW_DETAIL_TOKENS = IMAGE_BASE_TOKENS;
/**
 * Without the pixel size we cannot tile, and we do not fetch or decode the image on the hot
 * path. The flat estimate is OpenAI's own example, a 1024 × 1024 image at high detail: 4 tiles,
 * 765 tokens. Callers who know the size should send width and height.
 */
export const IMAGE_UNKNOWN_SIZE_TOKENS = IMAGE_BASE_TOKENS + 4 * IMAGE_TILE_TOKENS;

const FIT_SIDE = 2048;
const SHORT_SIDE = 768;
const TILE_SIDE = 512;

export function imageTokens(image: Partial<ImagePart['image_url']> | undefined): number {
  if (image?.detail === 'low') {
    return IMAGE_LOW_DETAIL_TOKENS;
  }
  const { width, height } = image ?? {};
  if (!isSide(width) || !isSide(height)) {
    return IMAGE_UNKNOWN_SIZE_TOKENS;
  }
  // `auto` lets OpenAI choose; for a budget we take `high`, the larger of the two.
  return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tilesAtHighDetail(width, height);
}

export function tilesAtHighDetail(width: number, height: number): number {
  let w = width;
  let h = height;
  if (w > FIT_SIDE || h > FIT_SIDE) {
    const scale = FIT_SIDE / Math.max(w, h);
    w = whole(w * scale);
    h = whole(h * scale);
  }
  const shortest = Math.min(w, h);
  if (shortest > SHORT_SIDE) {
    const scale = SHORT_SIDE / shortest;
    w = whole(w * scale);
    h = whole(h * scale);
  }
  return Math.ceil(w / TILE_SIDE) * Math.ceil(h / TILE_SIDE);
}

function isSide(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1;
}

/** Pixels are whole; the epsilon keeps 767.9999999 (a float artefact) from losing a pixel. */
function whole(pixels: number): number {
  return Math.max(1, Math.floor(pixels + 1e-9));
}
