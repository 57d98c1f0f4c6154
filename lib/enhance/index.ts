/** The study's image enhancement, exact to its numpy + OpenCV reference: white balance, grey, CLAHE. */
export { clahe, tileGridSize, DEFAULT_CLIP_LIMIT, DEFAULT_TILE_GRID, type ClaheOptions } from './clahe';
export { rgbToGrey, greyToRgb } from './grey';
export { whiteBalance, whiteBalanceLuts, percentileFromHistogram, WHITE_BALANCE_PERCENTILES } from './white-balance';
export { enhance, enhanceToRgb, enhanceKey, DEFAULT_ENHANCE, type EnhanceOptions } from './pipeline';
export { enhanceFile, encodeGreyPng, type EnhanceFileOptions } from './file';
export { enhanceFolder, outputNames, type EnhanceFolderOptions, type EnhanceFolderResult, type FolderItem } from './folder';
