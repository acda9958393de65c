using System.Numerics;
using System.Runtime.InteropServices;

namespace Kdump.Engine.Dump;

/// <summary>
/// A page bitmap (bit for pfn = byte pfn/8, bit pfn%8, LSB first) with a rank index: the count of set bits
/// before every 512-frame block, so "how many dumped pages come before pfn" is one table read plus at most 8 popcounts.
/// </summary>
internal sealed class PageBitmap
{
    private const int WordsPerBlock = 8;
    private readonly ulong[] _words;
    private long[]? _prefix;

    public ulong Bits { get; }

    private PageBitmap(ulong[] words, ulong bits) { _words = words; Bits = bits; }

    /// <summary>Reads <paramref name="bits"/> bits at <paramref name="offset"/> of the source.</summary>
    public static PageBitmap Read(IByteSource src, long offset, ulong bits, string what)
    {
        ulong words = (bits + 63) / 64;
        var arr = new ulong[words];
        var bytes = MemoryMarshal.AsBytes(arr.AsSpan());
        long byteCount = (long)((bits + 7) / 8);
        const int chunk = 1 << 20;
        for (long done = 0; done < byteCount;)
        {
            int n = (int)Math.Min(chunk, byteCount - done);
            src.ReadExactly(offset + done, bytes.Slice((int)done, n), what);
            done += n;
        }
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < arr.Length; i++) arr[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(arr[i]);
        // Bits past the end are never set.
        if (bits % 64 != 0 && arr.Length > 0) arr[^1] &= (1UL << (int)(bits % 64)) - 1;
        return new PageBitmap(arr, bits);
    }

    public static PageBitmap FromWords(ulong[] words, ulong bits) => new(words, bits);

    public bool Get(ulong pfn) => pfn < Bits && (_words[pfn >> 6] & (1UL << (int)(pfn & 63))) != 0;

    /// <summary>Number of set bits below <paramref name="pfn"/>.</summary>
    public long Rank(ulong pfn)
    {
        if (pfn >= Bits) pfn = Bits;
        var prefix = _prefix ??= BuildPrefix();
        ulong w = pfn >> 6;
        ulong block = w / WordsPerBlock;
        long r = prefix[block];
        for (ulong i = block * WordsPerBlock; i < w; i++) r += BitOperations.PopCount(_words[i]);
        if ((pfn & 63) != 0) r += BitOperations.PopCount(_words[w] & ((1UL << (int)(pfn & 63)) - 1));
        return r;
    }

    private long[] BuildPrefix()
    {
        var p = new long[_words.Length / WordsPerBlock + 2];
        long acc = 0;
        for (int b = 0; b < p.Length; b++)
        {
            p[b] = acc;
            int end = Math.Min(_words.Length, (b + 1) * WordsPerBlock);
            for (int i = b * WordsPerBlock; i < end; i++) acc += BitOperations.PopCount(_words[i]);
        }
        return p;
    }

    /// <summary>Set bits in [from, to).</summary>
    public long CountRange(ulong from, ulong to) => to <= from ? 0 : Rank(to) - Rank(from);

    /// <summary>Set bits of this AND NOT other over all frames.</summary>
    public long CountAndNot(PageBitmap other)
    {
        long n = 0;
        for (int i = 0; i < _words.Length; i++) n += BitOperations.PopCount(_words[i] & ~(i < other._words.Length ? other._words[i] : 0));
        return n;
    }

    /// <summary>The set pfns in [from, to), in order.</summary>
    public IEnumerable<ulong> Enumerate(ulong from, ulong to)
    {
        to = Math.Min(to, Bits);
        for (ulong w = from >> 6; w <= (to == 0 ? 0 : (to - 1) >> 6) && w < (ulong)_words.Length; w++)
        {
            ulong bits = _words[w];
            while (bits != 0)
            {
                int b = BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                ulong pfn = (w << 6) + (ulong)b;
                if (pfn >= from && pfn < to) yield return pfn;
            }
        }
    }
}
