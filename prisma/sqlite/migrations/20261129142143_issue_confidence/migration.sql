-- AlterTable
ALTER TABLE "DiagnosticIssue" ADD COLUMN "confidence" REAL;
