// The lecture's classifier and model files for the Python module (classifier_bindings.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace convlab::python {
void add_classifier(pybind11::module_& m);
}
