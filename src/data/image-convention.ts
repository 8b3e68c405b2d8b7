/**
 * What pixel values a backbone expects. Carried by each architecture (models/) and applied by the image
 * pipeline (data/images.ts), so the loader never needs to know which network it feeds.
 */
export interface InputConvention {
  /** Channel order of the tensor the network receives. */
  order: 'RGB' | 'BGR';
  /** 1: pixels scaled to [0,1] before mean/std; 255: kept in [0,255]. */
  scale: 1 | 255;
  /** Per-channel mean subtracted after scaling, in the network's channel order. */
  mean: [number, number, number];
  /** Per-channel std divided after subtracting the mean, in the network's channel order. */
  std: [number, number, number];
}

/** torchvision ImageNet convention (ResNet50, GoogLeNet): RGB, [0,1], ImageNet mean/std. */
export const IMAGENET_RGB: InputConvention = {
  order: 'RGB',
  scale: 1,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
