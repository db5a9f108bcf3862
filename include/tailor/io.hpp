// tailor/io.hpp — data in and out: CSV (read_csv, write_csv, streaming CsvReader), dataset
// loaders (Dunnhumby "The Complete Journey", IHDP, libFM/libSVM click logs with a feature-index
// map, rlb-dp auction logs and campaign info) and the synthetic data generators.
#pragma once

#include "tailor/io/csv.hpp"
#include "tailor/io/ctr_csv.hpp"
#include "tailor/io/dunnhumby.hpp"
#include "tailor/io/ihdp.hpp"
#include "tailor/io/libsvm.hpp"
#include "tailor/io/panel_csv.hpp"
#include "tailor/io/ipinyou.hpp"
#include "tailor/io/rlb_dp.hpp"
#include "tailor/io/synthetic.hpp"
