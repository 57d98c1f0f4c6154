/**
 * The accuracies the reproduced study published (%, per task and backbone). They were measured on validation
 * data (the study had no separate test set) from a split that let one patient's images fall on both sides;
 * they are not comparable to held-out, patient-grouped test accuracy.
 */
export const STUDY_REPORTED: Readonly<Record<'binary' | 'multiclass', Readonly<Record<string, number>>>> = Object.freeze({
  binary: Object.freeze({ nasnetmobile: 100, inceptionresnetv2: 100, resnet101: 98 }),
  multiclass: Object.freeze({ nasnetmobile: 95, inceptionresnetv2: 97.45, resnet101: 90 }),
});

/** One sentence saying where the study's numbers come from. */
export const STUDY_CAVEAT =
  "The study's numbers are validation accuracies (it had no separate test set) on an image-level split that ignored patients, so images of one patient could be in training and validation; ours are test accuracies on a patient-grouped split.";

/** Display names of the backbones. */
export const BACKBONE_DISPLAY: Readonly<Record<string, string>> = Object.freeze({
  nasnetmobile: 'NASNetMobile',
  inceptionresnetv2: 'InceptionResNetV2',
  resnet101: 'ResNet-101',
  resnet50: 'ResNet-50',
});

/** Display names of the tasks. */
export const TASK_DISPLAY: Readonly<Record<string, string>> = Object.freeze({ binary: 'binary (COVID vs not)', multiclass: '3-class' });
