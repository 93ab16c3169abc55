"""Validates SBML files with libsbml (python-libsbml): exit 1 if any file has an error.

Usage: python validate_sbml.py FILE.xml ...   (unit-consistency findings are warnings)
"""
import sys

import libsbml


def main(paths):
    failed = 0
    for path in paths:
        doc = libsbml.readSBMLFromFile(path)
        doc.checkConsistency()
        issues = [doc.getError(i) for i in range(doc.getNumErrors())]
        errors = [e for e in issues if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        warnings = len(issues) - len(errors)
        print('%s: %d errors, %d warnings' % (path, len(errors), warnings))
        for e in errors[:20]:
            print('  line %d: %s %d: %s' % (e.getLine(), e.getSeverityAsString(), e.getErrorId(), e.getMessage().strip()))
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
