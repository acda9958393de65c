using System.Globalization;
using System.Text;

namespace Kdump.Engine.Symbols;

/// <summary>
/// A System.map ("ffffffff81000000 T _text" per line) as a symbol finder. Link-time addresses are shifted by the
/// dump's KASLR offset (KERNELOFFSET) when they lie in the kernel image mapping (≥ <c>relocateFrom</c>).
/// </summary>
public static class SystemMap
{
    public const long MaxFileBytes = 256L << 20;

    public static SymbolTable Load(string path, ulong kaslrOffset, ulong relocateFrom = 0xffffffff80000000UL)
    {
        var fi = new FileInfo(path);
        if (!fi.Exists) throw new KdumpException("SystemMapNotFound", KdumpErrorKind.NotFound, $"System.map '{path}' does not exist.", path);
        if (fi.Length > MaxFileBytes) throw new KdumpException("SystemMapTooLarge", KdumpErrorKind.LimitExceeded, $"'{path}' is {fi.Length} bytes; a System.map is at most {MaxFileBytes}.", path);
        using var fs = File.OpenRead(path);
        Stream stream = fs;
        if (fs.Length >= 2 && fs.ReadByte() == 0x1f && fs.ReadByte() == 0x8b)
        {
            fs.Position = 0;
            stream = new BoundedStream(new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress), MaxFileBytes);
        }
        else fs.Position = 0;
        using var r = new StreamReader(stream, Encoding.UTF8);
        return Load(r, kaslrOffset, $"System.map {path}", relocateFrom);
    }

    public static SymbolTable Load(TextReader reader, ulong kaslrOffset, string source, ulong relocateFrom = 0xffffffff80000000UL)
    {
        var b = new SymbolTableBuilder();
        ulong lo = ulong.MaxValue, hi = 0;
        int lineNo = 0, bad = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            var span = line.AsSpan().Trim();
            if (span.IsEmpty) continue;
            int s1 = span.IndexOf(' ');
            if (s1 <= 0 || s1 + 2 >= span.Length || span[s1 + 2] != ' ' ||
                !ulong.TryParse(span[..s1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var addr))
            {
                if (++bad > 16 && bad * 2 > lineNo)
                    throw new KdumpException("SystemMapInvalid", KdumpErrorKind.InvalidData, $"{source} is not a System.map (line {lineNo}: '{Truncate(line)}').", source);
                continue;
            }
            char type = span[s1 + 1];
            var name = span[(s1 + 3)..].Trim();
            int tab = name.IndexOf('\t'); // module symbols in /proc/kallsyms style: "name\t[mod]"
            if (tab >= 0) name = name[..tab];
            if (name.IsEmpty) continue;
            if (addr >= relocateFrom && type is not ('A' or 'a')) addr = unchecked(addr + kaslrOffset);
            b.Add(Encoding.UTF8.GetBytes(name.ToString()), addr, type);
            if (addr >= 0x8000000000000000UL) { lo = Math.Min(lo, addr); hi = Math.Max(hi, addr); }
        }
        if (b.Count == 0) throw new KdumpException("SystemMapInvalid", KdumpErrorKind.InvalidData, $"{source} holds no symbols.", source);
        if (lo == ulong.MaxValue) { lo = 0; hi = ulong.MaxValue - 1; }
        return b.Build(source, null, lo, hi + 1);
    }

    /// <summary>Stops a decompressing stream at a byte limit (a gzip bomb must not exhaust memory).</summary>
    private sealed class BoundedStream : Stream
    {
        private readonly Stream _inner;
        private readonly long _limit;
        private long _read;
        public BoundedStream(Stream inner, long limit) { _inner = inner; _limit = limit; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = _inner.Read(buffer, offset, count);
            _read += n;
            if (_read > _limit) throw new KdumpException("SystemMapTooLarge", KdumpErrorKind.LimitExceeded, $"The System.map decompresses to more than {_limit} bytes.", _limit);
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
    }

    private static string Truncate(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
