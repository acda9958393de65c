using System.Buffers.Binary;

namespace Kdump.Engine.Dump;

/// <summary>
/// makedumpfile's flattened format (makedumpfile -F; QEMU kdump-*) read in place as the "rearranged file" it
/// describes. A 4096-byte big-endian header ("makedumpfile", type 1, version 1) is followed by records
/// {i64 offset; i64 size; size bytes} (big-endian) meaning "these bytes go at offset"; offset -1 ends the stream.
/// Opening reads only the 16-byte record headers (one sequential pass over a temporary read-only map of the file,
/// or large buffered reads, hopping over the data) into a compact sorted array of records.
/// </summary>
internal sealed class FlattenedSource : IByteSource
{
    public const int HeaderSize = 4096;
    private static ReadOnlySpan<byte> Signature => "makedumpfile\0\0\0\0"u8;

    /// <summary>A record: rearranged-file offset, length, and where its data sits in the flattened file.</summary>
    internal readonly record struct Record(long Offset, long Length, long FileOffset);

    private readonly IByteSource _file;
    private readonly Record[] _records;
    private readonly long[] _starts;

    public string Path => _file.Path;
    public long Length { get; }
    public long StoredLength => _file.Length;
    public int RecordCount => _records.Length;
    /// <summary>The stream ends inside a record (a copy cut short).</summary>
    public bool Truncated { get; }
    internal IReadOnlyList<Record> Records => _records;

    public static bool Sniff(ReadOnlySpan<byte> head) => head.Length >= 16 && head[..16].SequenceEqual(Signature);

    public FlattenedSource(IByteSource file, DumpLimits limits, bool force, EngineHost host)
    {
        _file = file;
        string path = file.Path;
        Span<byte> h = stackalloc byte[32];
        file.ReadExactly(0, h, "flattened header");
        long type = BinaryPrimitives.ReadInt64BigEndian(h[16..]), version = BinaryPrimitives.ReadInt64BigEndian(h[24..]);
        if (type != 1) throw DumpErrors.Corrupt(path, "flattened header type", $"is {type}, expected 1 (TYPE_FLAT_HEADER)");
        if (version != 1) throw DumpErrors.FormatUnsupported(path, $"flattened format version {version} is not supported (only 1)");
        if (file.Length < HeaderSize + 16) throw DumpErrors.Truncated(path, "first flattened record", HeaderSize, 16);

        // One sequential pass over the record headers. The file is mapped for the pass when it can be, so a header
        // costs at most a page fault (the kernel maps the neighbouring pages with it) instead of a read call;
        // otherwise a large buffer brings many headers of small records at once.
        var list = new List<Record>(256);
        long pos = HeaderSize, end = 0;
        bool sorted = true, ended = false;
        using (var cursor = HeaderCursor.Create(file))
        {
            while (true)
            {
                if ((list.Count & 1023) == 0) host.Cancellation.ThrowIfCancellationRequested();
                if (pos + 16 > file.Length) break;
                cursor.Header(pos, out long off, out long size);
                if (off == -1) { ended = true; break; }
                if (off < 0 || off > limits.MaxRearrangedBytes)
                    throw DumpErrors.Corrupt(path, $"flattened record {list.Count} offset", $"is {off} (at file offset 0x{pos:x})");
                if (size < 0 || size > limits.MaxFlattenedRecordBytes || off + size > limits.MaxRearrangedBytes)
                    throw DumpErrors.Corrupt(path, $"flattened record {list.Count} size", $"is {size} (at file offset 0x{pos:x})");
                if (list.Count >= limits.MaxFlattenedRecords) throw DumpErrors.Limit(path, "flattened records", $"exceed {limits.MaxFlattenedRecords}");
                if (pos + 16 + size > file.Length)
                {
                    // A stream cut short: keep what the last record holds; the dump inside sees its data end early.
                    long have = file.Length - (pos + 16);
                    host.Warning($"'{path}' is truncated: flattened record {list.Count} ({size} bytes at file offset 0x{pos + 16:x}) runs past the end of the {file.Length}-byte file; later data is missing and reads as lost.");
                    Truncated = true;
                    if (have > 0)
                    {
                        if (list.Count > 0 && off < list[^1].Offset) sorted = false;
                        list.Add(new Record(off, have, pos + 16));
                        end = Math.Max(end, off + have);
                    }
                    ended = true;
                    break;
                }
                if (size > 0)
                {
                    if (list.Count > 0 && off < list[^1].Offset) sorted = false;
                    list.Add(new Record(off, size, pos + 16));
                    end = Math.Max(end, off + size);
                }
                pos += 16 + size;
            }
        }
        if (!ended && !force && pos + 16 > file.Length)
            host.Warning($"'{path}': the flattened stream has no end marker (the dump may be incomplete).");

        var arr = list.ToArray();
        if (!sorted) Array.Sort(arr, (a, b) => a.Offset.CompareTo(b.Offset));
        _records = ResolveOverlaps(arr, path, force, host);
        _starts = new long[_records.Length];
        for (int i = 0; i < _records.Length; i++) _starts[i] = _records[i].Offset;
        Length = end;
    }

    /// <summary>Overlapping records are not written by makedumpfile or QEMU: an error, or with -Force the later record wins.</summary>
    private static Record[] ResolveOverlaps(Record[] arr, string path, bool force, EngineHost host)
    {
        for (int i = 1; i < arr.Length; i++)
        {
            if (arr[i].Offset < arr[i - 1].Offset + arr[i - 1].Length)
            {
                if (!force)
                    throw DumpErrors.Corrupt(path, "flattened records", $"overlap: [0x{arr[i - 1].Offset:x}, +{arr[i - 1].Length}) from file offset 0x{arr[i - 1].FileOffset:x} and [0x{arr[i].Offset:x}, +{arr[i].Length}) from 0x{arr[i].FileOffset:x} (-Force lets the later record win)");
                host.Warning($"'{path}': flattened records overlap; the later record wins, as makedumpfile -R would write it.");
                return LaterWins(arr);
            }
        }
        return arr;
    }

    /// <summary>
    /// Resolves overlaps so the record later in the stream wins every byte it covers: a sweep over the sorted record
    /// boundaries with a heap of the records covering the current point, ordered by stream position (O(n log n)).
    /// </summary>
    internal static Record[] LaterWins(Record[] sortedByOffset)
    {
        int n = sortedByOffset.Length;
        var bounds = new long[2 * n];
        for (int i = 0; i < n; i++) { bounds[2 * i] = sortedByOffset[i].Offset; bounds[2 * i + 1] = sortedByOffset[i].Offset + sortedByOffset[i].Length; }
        Array.Sort(bounds);
        var active = new PriorityQueue<int, long>(); // record index by -FileOffset: the latest in the stream on top
        var result = new List<Record>(n);
        int next = 0;
        for (int b = 0; b + 1 < bounds.Length; b++)
        {
            long at = bounds[b], to = bounds[b + 1];
            if (to == at) continue;
            while (next < n && sortedByOffset[next].Offset <= at) { active.Enqueue(next, -sortedByOffset[next].FileOffset); next++; }
            while (active.TryPeek(out int top, out _) && sortedByOffset[top].Offset + sortedByOffset[top].Length <= at) active.Dequeue();
            if (!active.TryPeek(out int w, out _)) continue;
            var r = sortedByOffset[w];
            long fileAt = r.FileOffset + (at - r.Offset);
            if (result.Count > 0 && result[^1] is var last && last.Offset + last.Length == at && last.FileOffset + last.Length == fileAt)
                result[^1] = last with { Length = last.Length + (to - at) };
            else result.Add(new Record(at, to - at, fileAt));
        }
        return result.ToArray();
    }

    public int Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= Length || destination.IsEmpty) return 0;
        int want = (int)Math.Min(destination.Length, Length - offset);
        var dest = destination[..want];
        int i = Array.BinarySearch(_starts, offset);
        if (i < 0) i = ~i - 1;
        long cur = offset;
        int done = 0;
        if (i < 0) i = 0;
        for (; done < want && i < _records.Length; i++)
        {
            var r = _records[i];
            long rEnd = r.Offset + r.Length;
            if (rEnd <= cur) continue;
            if (r.Offset > cur)
            {
                // A hole in the rearranged file (never written) reads as zeros, as in the rearranged twin.
                int gap = (int)Math.Min(r.Offset - cur, want - done);
                dest.Slice(done, gap).Clear();
                done += gap; cur += gap;
                if (done >= want) break;
            }
            int n = (int)Math.Min(rEnd - cur, want - done);
            int got = _file.Read(r.FileOffset + (cur - r.Offset), dest.Slice(done, n));
            done += got; cur += got;
            if (got < n) return done;
        }
        if (done < want) { dest[done..].Clear(); done = want; }
        return done;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>
    /// Reads the 16-byte record headers of the index pass through a buffer. (A memory map was tried: a little faster,
    /// but a file truncated by another process during the pass would kill the process with SIGBUS.)
    /// </summary>
    private abstract class HeaderCursor : IDisposable
    {
        public abstract void Header(long pos, out long offset, out long size);
        public virtual void Dispose() { }

        public static HeaderCursor Create(IByteSource file) => new Buffered(file);

        /// <summary>
        /// A 1 MiB buffer refilled from the header's position whenever the next header is not inside it: small records
        /// come many to a read. After a large record (the data between headers would fill the buffer) only 4 KiB is read.
        /// </summary>
        private sealed class Buffered(IByteSource file) : HeaderCursor
        {
            private readonly byte[] _buf = new byte[1 << 20];
            private long _start = -1, _last = -1;
            private int _len;

            public override void Header(long pos, out long offset, out long size)
            {
                if (_start < 0 || pos < _start || pos + 16 > _start + _len)
                {
                    bool bigStep = _last >= 0 && pos - _last > _buf.Length / 8;
                    _start = pos;
                    _len = file.Read(pos, _buf.AsSpan(0, bigStep ? 4096 : _buf.Length));
                    if (_len < 16) throw DumpErrors.Truncated(file.Path, "flattened record header", pos, 16);
                }
                _last = pos;
                var h = _buf.AsSpan((int)(pos - _start), 16);
                offset = BinaryPrimitives.ReadInt64BigEndian(h);
                size = BinaryPrimitives.ReadInt64BigEndian(h[8..]);
            }
        }
    }
}
