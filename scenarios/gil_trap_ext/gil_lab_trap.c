/*
 * gil_lab_trap: a deliberately GIL-requiring extension module (claim C5).
 *
 * On a free-threaded CPython (3.14t), importing an extension module that does not
 * declare {Py_mod_gil, Py_MOD_GIL_NOT_USED} turns the GIL back on for the rest of the
 * process; CPython only emits a RuntimeWarning. This module is that offender, on
 * purpose: it uses multi-phase initialisation like a modern extension, but its slot
 * table has NO Py_mod_gil entry, so CPython assumes it needs the GIL.
 *
 * Do not "fix" it: the lab's audit, the gil-trap preset and the integration tests
 * rely on it re-enabling the GIL. (A real extension would add
 *     {Py_mod_gil, Py_MOD_GIL_NOT_USED},
 * to `trap_slots`, and only once its code is actually thread-safe.)
 *
 * Built by loadtests/gil_trap.py (ensure_trap_extension) against the headers of the
 * interpreter that will import it; the result lives in the lab's cache, not here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* spin(n) -> int: n rounds of a 64-bit linear congruential generator, in C, holding
 * whatever lock the interpreter holds. Enough to prove the module works. */
static PyObject *
trap_spin(PyObject *module, PyObject *arg)
{
    long long n = PyLong_AsLongLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "spin(n): n must be >= 0");
        return NULL;
    }
    unsigned long long state = 1;
    for (long long i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    return PyLong_FromUnsignedLongLong(state);
}

static PyMethodDef trap_methods[] = {
    {"spin", trap_spin, METH_O,
     "spin(n) -> int\n\nRun n rounds of a 64-bit LCG from state 1 and return the final state."},
    {NULL, NULL, 0, NULL},
};

/* Deliberately no {Py_mod_gil, Py_MOD_GIL_NOT_USED}: see the comment at the top. */
static PyModuleDef_Slot trap_slots[] = {
    {0, NULL},
};

static struct PyModuleDef trap_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gil_lab_trap",
    .m_doc = "gil-lab's deliberate offender: an extension without Py_mod_gil, which re-enables the GIL on 3.14t.",
    .m_size = 0,
    .m_methods = trap_methods,
    .m_slots = trap_slots,
};

PyMODINIT_FUNC
PyInit_gil_lab_trap(void)
{
    return PyModuleDef_Init(&trap_module);
}
