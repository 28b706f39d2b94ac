-- AlterTable
ALTER TABLE "DiagnosticIssue" ADD COLUMN     "remedies" TEXT;

-- CreateTable
CREATE TABLE "RemedyApplication" (
    "id" SERIAL NOT NULL,
    "sessionId" INTEGER NOT NULL,
    "statusVersion" INTEGER NOT NULL,
    "stepIndex" INTEGER,
    "remedies" TEXT NOT NULL,
    "chosenBy" TEXT NOT NULL,
    "source" TEXT,
    "issueKeys" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "report" TEXT,
    "reportedAt" TIMESTAMP(3),

    CONSTRAINT "RemedyApplication_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RemedyApplication_sessionId_id_idx" ON "RemedyApplication"("sessionId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "RemedyApplication_sessionId_statusVersion_key" ON "RemedyApplication"("sessionId", "statusVersion");

-- AddForeignKey
ALTER TABLE "RemedyApplication" ADD CONSTRAINT "RemedyApplication_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;
