/** `prepare` steps by `--dataset` name: files a user fetched by hand → the layout the loader reads. */
import { prepareCars196 } from './cars196.ts';
import { prepareFromTable } from './from-table.ts';
import { prepareInShop } from './in-shop.ts';
import type { PrepareOptions } from './inputs.ts';
import { prepareVehicleId } from './vehicle-id.ts';

export type { PrepareOptions } from './inputs.ts';

export interface Preparer {
  /** What `--from DIR` must hold (for --help). */
  inputs: string;
  run: (from: string, o: PrepareOptions) => Promise<string>;
}

export const PREPARERS: Readonly<Record<string, Preparer>> = {
  cars196: { inputs: 'car_ims.tgz (or car_ims/) and cars_annos.mat', run: prepareCars196 },
  'in-shop': { inputs: 'img.zip (or img/) and list_eval_partition.txt, directly or in Img/ and Eval/', run: prepareInShop },
  vehicle_id: { inputs: 'the VehicleID_V1.0 folder (image/, train_test_split/) or its .zip/.tgz/.tar', run: prepareVehicleId },
  cub200: { inputs: 'CUB_200_2011.tgz (checked against the sources table)', run: (from, o) => prepareFromTable('cub200', from, o) },
  online_products: {
    inputs: 'Stanford_Online_Products.zip (checked against the sources table)',
    run: (from, o) => prepareFromTable('online_products', from, o),
  },
};
