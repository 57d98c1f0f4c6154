/**
 * The TF.js internals the project reaches into, declared once. TF.js exports neither its functional-graph
 * bookkeeping (which layer call produced a symbolic tensor, from which inputs) nor tfjs-node's backend class as
 * types, yet cutting a backbone, Grad-CAM and the GraphDef translation walk the first, and the native kernels and
 * graph sessions call the second. Only the fields used here are declared; they are public at run time in
 * @tensorflow/tfjs 4.22 and tfjs-node 4.22.
 */
import * as tf from '@tensorflow/tfjs';

/** One call of a layer in a functional model (TF.js's `Node`): the tensors it took and those it made. */
export interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

/** A SymbolicTensor with the indices TF.js keeps to find the layer call that produced it. */
export interface GraphTensor extends tf.SymbolicTensor {
  nodeIndex: number;
  tensorIndex: number;
}

/** The layer call that produced `t`. */
export function producerNode(t: tf.SymbolicTensor): GraphNode {
  const { sourceLayer, nodeIndex } = t as GraphTensor;
  return (sourceLayer as unknown as { inboundNodes: GraphNode[] }).inboundNodes[nodeIndex];
}

/** An attribute of a TensorFlow op run eagerly by tfjs-node. */
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** tfjs-node's N-API binding: the TensorFlow C library's version, devices and enum values. */
export interface NativeBinding {
  TF_Version: string;
  isUsingGpuDevice(): boolean;
  TF_ATTR_TYPE: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_BOOL: number;
  TF_FLOAT: number;
}

/** The parts of tfjs-node's NodeJSKernelBackend used here: eager ops by name, and SavedModel sessions. */
export interface NativeBackend extends tf.KernelBackend {
  binding: NativeBinding;
  executeSingleOutput(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.TensorInfo;
  executeMultipleOutputs(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.TensorInfo[];
  /** Loads the SavedModel in folder `dir` as a session; returns its id. */
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  /** One session run: feeds (`node:0` names, dtypes) and fetches (`node:0` names). */
  runSavedModel(id: number, inputs: tf.Tensor[], infos: { name: string; tfDtype: string }[], outputs: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

/** tfjs-node's backend when it is registered (whether or not it is the active one), else undefined. */
export function findNativeBackend(): NativeBackend | undefined {
  return (tf.findBackend('tensorflow') as unknown as NativeBackend | null) ?? undefined;
}
