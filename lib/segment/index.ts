/**
 * Lung segmentation: the public API the image input stage and the CLI use. A small U-Net trained on the
 * lung-mask data set; masks are 0/255 and the size of their image.
 */
export { loadSegmenter, defaultSegmenterDir, type Segmenter, type LoadSegmenterOptions } from './segmenter';
export { lungBox, applyLungs, restrictToLungs, cropGrey, cropPixels, type LungsMode, type GreyImage } from './lungs';
export { connectedComponents, keepLargestComponents, fillHoles, boundingBox, dice, iou, type Box } from './mask';
export { trainSegmenter, DEFAULT_SEGMENT_SETTINGS, type SegmentSettings, type SegmentRecord } from './train';
export { defaultMaskDir, readGrey } from './data';
