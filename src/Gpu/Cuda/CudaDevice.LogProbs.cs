namespace OrleansQuant.Gpu.Cuda;

public sealed unsafe partial class CudaDevice
{
    // log_probs.cu: one block per row; its passes are block reductions over the row.
    private const int LogProbsThreads = 256;

    public void TokenLogProbs(DeviceTensor logits, DeviceTensor targets, DeviceTensor targetLogProbs, DeviceTensor topIds, DeviceTensor topLogProbs)
    {
        RequireTokenLogProbs(logits, targets, targetLogProbs, topIds, topLogProbs);
        ulong input = Own(logits, nameof(TokenLogProbs)).Pointer, wanted = Own(targets, nameof(TokenLogProbs)).Pointer;
        ulong scores = Own(targetLogProbs, nameof(TokenLogProbs)).Pointer;
        ulong ids = Own(topIds, nameof(TokenLogProbs)).Pointer, best = Own(topLogProbs, nameof(TokenLogProbs)).Pointer;
        if (logits.Rows == 0)
        {
            return;
        }

        int vocabulary = logits.Columns, top = topIds.Columns;
        void** arguments = stackalloc void*[] { &input, &wanted, &scores, &ids, &best, &vocabulary, &top };
        Launch("token_log_probs", (uint)logits.Rows, 1, LogProbsThreads, 0, arguments);
    }
}
