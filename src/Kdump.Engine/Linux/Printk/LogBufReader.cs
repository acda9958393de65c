using System.Buffers.Binary;

namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// Reads the variable-length record buffer of Linux 3.5–5.9: log_buf (a pointer) holds log_buf_len bytes of records,
/// each a struct printk_log header (ts_nsec, len, text_len, dict_len, facility, flags:5/level:3 [, caller_id]) followed
/// by the text and the dictionary ("SUBSYSTEM=pci\0DEVICE=+pci:0000:00:02.0"). A record of len 0 marks the end of the
/// used space: the next record is at the start of the buffer. Records run from log_first_idx up to log_next_idx. The
/// walk stops (with a warning) when an index leaves the buffer or when it has visited more records than the buffer
/// can hold, so a corrupted chain cannot make it loop.
/// </summary>
internal static class LogBufReader
{
    public static IEnumerable<CrashLogRecord> Read(LogBufLayout l, ReadVirtualMemory read, PrintkContext ctx)
    {
        Span<byte> w = stackalloc byte[8];
        read(l.LogBufSymbol, w);
        ulong logBuf = BinaryPrimitives.ReadUInt64LittleEndian(w);
        read(l.LogBufLenSymbol, w[..4]);
        int logBufLen = BinaryPrimitives.ReadInt32LittleEndian(w);
        read(l.FirstIdxSymbol, w[..4]);
        uint firstIdx = BinaryPrimitives.ReadUInt32LittleEndian(w);
        read(l.NextIdxSymbol, w[..4]);
        uint nextIdx = BinaryPrimitives.ReadUInt32LittleEndian(w);

        if (logBufLen <= 0 || logBufLen > PrintkLimits.MaxTextBytes || logBufLen < l.HeaderSize)
            throw new KdumpException(logBufLen > PrintkLimits.MaxTextBytes ? "PrintkRingTooLarge" : "PrintkRingInvalid",
                logBufLen > PrintkLimits.MaxTextBytes ? KdumpErrorKind.LimitExceeded : KdumpErrorKind.InvalidData,
                $"log_buf_len is {logBufLen}; {l.HeaderSize} to {PrintkLimits.MaxTextBytes} bytes are read.", logBufLen);
        ctx.Verbose($"printk log_buf at 0x{logBuf:x}: {logBufLen} bytes, first index {firstIdx}, next index {nextIdx}.");

        var buf = GuardedBuffer.Read(read, logBuf, logBufLen, ctx.Cancellation);
        if (buf.AllFaulted && buf.FaultIn(0, buf.Length) is { } fault)
            throw new KdumpException("PrintkRingUnreadable", fault.Kind,
                $"The printk log_buf at 0x{logBuf:x} ({logBufLen} bytes) cannot be read: {fault.Message}", logBuf, fault);
        if (buf.FaultedPages > 0)
            ctx.Warn("PrintkRingPartlyUnreadable",
                $"{buf.FaultedPages} pages of the printk log_buf at 0x{logBuf:x} cannot be read; records stored there are skipped.", logBuf);

        int limit = logBufLen - l.HeaderSize;
        if (firstIdx > (uint)limit || nextIdx > (uint)logBufLen)
        {
            ctx.Warn("PrintkRingIdsInvalid", $"log_first_idx {firstIdx} or log_next_idx {nextIdx} lies outside the {logBufLen}-byte log_buf.", firstIdx);
            ctx.Flush();
            yield break;
        }

        // Each visited record is at least the header long, so more visits than this means the chain loops.
        long maxRecords = logBufLen / Math.Max(8, l.HeaderSize) + 2;
        int pos = (int)firstIdx;
        for (long n = 0; pos != (int)nextIdx; n++)
        {
            if ((n & 0xfff) == 0) ctx.Cancellation.ThrowIfCancellationRequested();
            if (n >= maxRecords)
            {
                ctx.Warn("PrintkLogCycle", $"The log_buf record chain does not reach log_next_idx {nextIdx} after {n} records; it loops (last index {pos}).", pos);
                break;
            }
            if (buf.FaultIn(pos, l.HeaderSize) is { } hfault)
            {
                ctx.Warn("PrintkRecordUnreadable", $"The log_buf record at index {pos} cannot be read: {hfault.Message}", pos);
                break;
            }
            int len = buf.U16(pos + l.Len);
            if (len == 0)
            {
                // The end-of-buffer marker: this record is really the one at the start of the buffer.
                pos = 0;
                len = buf.U16(l.Len);
                if (len == 0)
                {
                    ctx.Warn("PrintkRecordInvalid", "The log_buf record at index 0 has length 0 after a wrap marker.", 0);
                    break;
                }
            }
            var rec = ReadRecord(l, buf, pos, n, ctx);
            if (rec is not null) yield return rec;

            int following = pos + len;
            if (following > limit && following != (int)nextIdx)
            {
                ctx.Warn("PrintkRecordInvalid", $"The log_buf record at index {pos} has length {len}, which leads outside the {logBufLen}-byte buffer.", pos);
                break;
            }
            pos = following;
        }
        ctx.Flush();
    }

    private static CrashLogRecord? ReadRecord(LogBufLayout l, GuardedBuffer buf, int pos, long ordinal, PrintkContext ctx)
    {
        int len = buf.U16(pos + l.Len);
        int textLen = buf.U16(pos + l.TextLen);
        int dictLen = buf.U16(pos + l.DictLen);
        int textStart = pos + l.HeaderSize;
        int avail = buf.Length - textStart;
        if (textLen > avail)
        {
            ctx.Warn("PrintkTextTruncated", $"The log_buf record at index {pos} says {textLen} text bytes but only {avail} remain in the buffer.", pos);
            textLen = Math.Max(0, avail);
        }
        if (buf.FaultIn(textStart, textLen) is { } tfault)
        {
            ctx.Warn("PrintkTextUnreadable", $"The text of the log_buf record at index {pos} cannot be read: {tfault.Message}", pos);
            return null;
        }
        if (l.HeaderSize + textLen + dictLen > len)
            dictLen = Math.Max(0, len - l.HeaderSize - textLen);
        dictLen = Math.Min(dictLen, Math.Max(0, buf.Length - textStart - textLen));
        CrashLogDeviceInfo? dev = null;
        if (dictLen > 0 && buf.FaultIn(textStart + textLen, dictLen) is null)
            dev = ParseDictionary(buf.Span.Slice(textStart + textLen, dictLen));

        byte flagsLevel = buf.U8(pos + l.FlagsLevel);
        return new CrashLogRecord(
            PrintkLayoutKind.LogBuf,
            sequence: (ulong)ordinal,
            timestampNanoseconds: buf.U64(pos + l.TsNsec),
            level: flagsLevel >> 5,
            facility: buf.U8(pos + l.Facility),
            flags: flagsLevel & 0x1f,
            callerId: l.CallerId is { } c ? buf.U32(pos + c) : null,
            text: buf.Span.Slice(textStart, textLen).ToArray(),
            deviceInfo: dev,
            format: ctx.Format);
    }

    /// <summary>SUBSYSTEM= and DEVICE= from a record dictionary of NUL-separated KEY=value pairs.</summary>
    internal static CrashLogDeviceInfo? ParseDictionary(ReadOnlySpan<byte> dict)
    {
        string subsystem = "", device = "";
        foreach (var item in System.Text.Encoding.UTF8.GetString(dict).Split('\0'))
        {
            if (item.StartsWith("SUBSYSTEM=", StringComparison.Ordinal)) subsystem = item[10..];
            else if (item.StartsWith("DEVICE=", StringComparison.Ordinal)) device = item[7..];
        }
        return subsystem.Length == 0 && device.Length == 0 ? null : new CrashLogDeviceInfo(subsystem, device);
    }
}
