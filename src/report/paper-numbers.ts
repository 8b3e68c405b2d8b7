/**
 * The MIC paper's published test results (Roth, Brattoli, Ommer, "MIC: Mining Interclass Characteristics for
 * Improved Metric Learning", ICCV 2019; arXiv:1909.11574): ResNet50, 128-d embedding, margin loss with
 * distance-weighted sampling for both tasks. These are the paper's numbers, not ours; `mic-train report`
 * shows them next to a run, marked as the paper's, with the difference.
 *
 * Values are percentages keyed by the `log_val_Class.csv` column they compare with. Only values whose source
 * is recorded are listed; what is missing was not retrieved and is left out rather than guessed:
 * - The table numbers inside the paper were not available to this project: the CUB200-2011, CARS196 and SOP
 *   values are from the paper's main comparison table, the In-Shop and VehicleID values from its
 *   In-Shop/VehicleID table, as quoted by later papers' comparison tables (identical in independent quotes;
 *   e.g. the NC-Init paper, Tables 1 and 2). Re-check against the paper before using one as a threshold.
 * - NMI of CUB200, CARS196 and SOP is marked unverified (recalled, not found in a quoting table).
 * - SOP R@100: 95.6 in the NC-Init paper's table, 94.6 in one README table (likely a typo).
 * - Not retrieved: R@8 (CUB, CARS), R@1000 (SOP), R@20, R@50 and NMI (In-Shop), every VehicleID value
 *   except small-set R@1, all F1 and MAP@R values.
 */

export interface PaperValue {
  /** Percent, as printed in the paper. */
  value: number;
  /** Set when the value is not confirmed by a quoting table (shown with a mark and this note). */
  caveat?: string;
}

export interface PaperEntry {
  /** Dataset as `--dataset` names it. */
  dataset: string;
  /** Where the values come from, for the report's footnote. */
  source: string;
  /** `log_val_Class.csv` column → the paper's value. */
  values: Readonly<Record<string, PaperValue>>;
}

const PAPER = 'MIC paper (Roth, Brattoli, Ommer, ICCV 2019)';
const MAIN_TABLE = `${PAPER}, main comparison table (CUB200-2011 / CARS196 / SOP), as quoted identically by later papers (e.g. NC-Init, Table 1)`;
const INSHOP_TABLE = `${PAPER}, In-Shop / VehicleID table, as quoted by later papers (e.g. NC-Init, Table 2: R@1 / R@10 / R@30)`;
const NMI_CAVEAT = 'unverified: NMI not found in a quoting table';

export const PAPER_NUMBERS: Readonly<Record<string, PaperEntry>> = {
  cub200: {
    dataset: 'cub200',
    source: MAIN_TABLE,
    values: { 'Recall @ 1': { value: 66.1 }, 'Recall @ 2': { value: 76.8 }, 'Recall @ 4': { value: 85.6 }, NMI: { value: 69.7, caveat: NMI_CAVEAT } },
  },
  cars196: {
    dataset: 'cars196',
    source: MAIN_TABLE,
    values: { 'Recall @ 1': { value: 82.6 }, 'Recall @ 2': { value: 89.1 }, 'Recall @ 4': { value: 93.2 }, NMI: { value: 68.4, caveat: NMI_CAVEAT } },
  },
  online_products: {
    dataset: 'online_products',
    source: MAIN_TABLE,
    values: {
      'Recall @ 1': { value: 77.2 },
      'Recall @ 10': { value: 89.4 },
      'Recall @ 100': { value: 95.6, caveat: '95.6 in one quoting table, 94.6 in another' },
      NMI: { value: 90.0, caveat: NMI_CAVEAT },
    },
  },
  'in-shop': {
    dataset: 'in-shop',
    source: INSHOP_TABLE,
    values: { 'Recall @ 1': { value: 88.2 }, 'Recall @ 10': { value: 97.0 }, 'Recall @ 30': { value: 98.0 } },
  },
  vehicle_id: {
    dataset: 'vehicle_id',
    source: `${PAPER}, In-Shop / VehicleID table, small test set R@1 as listed by benchmark aggregators (other VehicleID values not retrieved)`,
    // Set 0 = test_list_800 (small). MIC evaluates VehicleID all-vs-all (--vehicleid-protocol allvsall).
    values: { 'Set 0 Recall @ 1': { value: 86.9 } },
  },
};
