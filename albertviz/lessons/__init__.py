"""What each page concludes, computed: verdict sentences built from the numbers the page shows (no Streamlit)."""
